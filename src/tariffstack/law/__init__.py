"""The law as data: the reviewed heading registry and what the engine reads from it."""
