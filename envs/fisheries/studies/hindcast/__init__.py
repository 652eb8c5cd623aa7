"""What each policy would have recommended in a stock's observed years."""
