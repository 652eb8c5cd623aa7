"""The simulation study of Memarzadeh & Boettiger (2019)."""
