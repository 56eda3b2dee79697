"""Common code and variables."""

# The name of the artifact under which the pyfunc model stores the PyTorch
# model; it is also the folder name below artifacts/.
ARTIFACT_NAME = "pytorch_model"
