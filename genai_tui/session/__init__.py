"""Sessions: everything the user made, on the server's disk, as it happens."""
