"""Reference lists (regions, industries, disciplines) that records' values are checked against."""
