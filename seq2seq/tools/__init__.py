"""Tools on run directories: checkpoint averaging, the run listing, vocabulary inspection, the HTML report."""
