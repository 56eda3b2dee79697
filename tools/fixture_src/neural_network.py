"""Neural network for the Fashion-MNIST classifier of the endpoint tutorial."""

from torch import nn


class NeuralNetwork(nn.Module):
    """
    A one-hidden-layer perceptron: 28 x 28 = 784 pixels in, 10 class logits
    out.  The layers live in one child, ``sequence``, so that a saved model
    is a user class whose only child is a plain nn.Sequential.
    """

    def __init__(self) -> None:
        super().__init__()
        self.sequence = nn.Sequential(
            nn.Flatten(),
            nn.Linear(28 * 28, 20),
            nn.ReLU(),
            nn.Linear(20, 10),
        )

    def forward(self, x):
        # Flatten turns (N, 1, 28, 28) images into (N, 784) rows and leaves
        # already flat (N, 784) rows unchanged, so both work as input.
        return self.sequence(x)
