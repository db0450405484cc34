"""The ownership model: who owns each path, what is on disk now, how pip lies over conda."""
