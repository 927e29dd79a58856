"""Data: the real GTSRB loader (``gtsrb``), its download (``download``), and the benchmark HDF5 file."""
