"""Prints the venv's torch/lib folder (libtorch's shared libraries) without importing torch."""
import importlib.util
import os

spec = importlib.util.find_spec("torch")
print(os.path.join(spec.submodule_search_locations[0], "lib"))
