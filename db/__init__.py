"""Tables, engine and query helpers."""
