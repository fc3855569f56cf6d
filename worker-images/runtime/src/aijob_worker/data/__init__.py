"""Training and inference data: bundled data sets, CSV files, and inference records."""
