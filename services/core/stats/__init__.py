"""Statistics of a region (or all regions): problems posted, reviewed, matched, answered."""
