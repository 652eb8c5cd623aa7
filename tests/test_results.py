import json

import numpy as np
import pytest
import xarray as xr

from decide import results
from decide.errors import FormatError, SchemaError
from decide.results import standard_error


def _dataset() -> xr.Dataset:
    return xr.Dataset(
        {"value": (("state",), np.array([1.0, 2.0]), {"long_name": "value", "units": "reward"})},
        coords={
            "state": (
                "state",
                np.array(["a", "b"], dtype=object),
                {"long_name": "state label", "units": "1"},
            )
        },
        attrs=results.make_attrs("toy", "test", {"gap": np.float64(0.5), "n": np.int64(3)}),
    )


def test_make_attrs_records_parameters_as_json():
    attrs = _dataset().attrs
    assert attrs["creator"] == "decide"
    assert json.loads(attrs["parameters"]) == {"gap": 0.5, "n": 3}
    assert set(results.COMMON_ATTRS) <= set(attrs)


def test_write_read_round_trip(tmp_path):
    path = results.write(_dataset(), tmp_path / "out.nc")
    back = results.read(path)
    xr.testing.assert_identical(back, _dataset().assign_attrs(created=back.attrs["created"]))
    assert results.parameters(back) == {"gap": 0.5, "n": 3}
    assert [p.name for p in tmp_path.iterdir()] == ["out.nc"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda ds: ds.drop_attrs(deep=False), "creator"),
        (lambda ds: ds.assign(value=ds.value.assign_attrs(units=None).drop_attrs()), "long_name"),
        (lambda ds: ds.drop_vars("state"), "state"),
    ],
)
def test_validate_names_the_missing_field(change, field):
    with pytest.raises(SchemaError, match=field):
        results.validate(change(_dataset()))


def test_failed_write_leaves_no_file(tmp_path):
    bad = _dataset().drop_vars("state")
    with pytest.raises(SchemaError):
        results.write(bad, tmp_path / "out.nc")
    unwritable = _dataset().assign_attrs(bad=object())
    with pytest.raises(TypeError):
        results.write(unwritable, tmp_path / "out.nc")
    assert list(tmp_path.iterdir()) == []


def test_read_rejects_non_netcdf(tmp_path):
    path = tmp_path / "junk.nc"
    path.write_text("not netcdf")
    with pytest.raises(FormatError, match=r"junk\.nc"):
        results.read(path)
    with pytest.raises(FormatError, match="no such file"):
        results.read(tmp_path / "missing.nc")


def test_standard_error_is_the_sample_sd_over_root_n():
    # s = 1 for (1, 2, 3), so the standard error is 1/√3; one value has no spread: NaN
    assert standard_error([1.0, 2.0, 3.0]) == pytest.approx(1 / np.sqrt(3), rel=1e-15)
    assert np.isnan(standard_error([4.0]))
    np.testing.assert_allclose(standard_error([[0.0, 2.0], [1.0, 5.0]], axis=0), [0.5, 1.5])
    da = xr.DataArray([[1.0, 2.0, 3.0], [2.0, 2.0, 2.0]], dims=("policy", "seed"))
    np.testing.assert_allclose(da.reduce(standard_error, dim="seed"), [1 / np.sqrt(3), 0.0])
