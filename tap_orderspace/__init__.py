"""tap-orderspace: a Singer tap for the Orderspace API."""
