"""Training and evaluation loops shared by the fixture models."""

from typing import Iterable, Tuple

import torch
from torch import nn


def fit(device: str, batches: Iterable, model: nn.Module, loss_fn,
        optimizer: torch.optim.Optimizer) -> Tuple[float, float]:
    """
    Trains the model for one epoch over ``batches`` of (x, y) tensors.
    Returns the mean loss per item and the accuracy over the epoch.
    """
    model.train()
    loss_sum = 0.0
    correct = 0
    count = 0
    for (x, y) in batches:
        x = x.to(device)
        y = y.to(device)
        y_prime = model(x)
        loss = loss_fn(y_prime, y)

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        # loss is the batch mean; weigh it by the batch size so that a short
        # last batch does not count as much as a full one.
        loss_sum += loss.item() * len(y)
        correct += (y_prime.argmax(1) == y).sum().item()
        count += len(y)
    return (loss_sum / count, correct / count)


def evaluate(device: str, batches: Iterable, model: nn.Module,
             loss_fn) -> Tuple[float, float]:
    """
    Evaluates the model over ``batches`` of (x, y) tensors without changing
    it.  Returns the mean loss per item and the accuracy.
    """
    model.eval()
    loss_sum = 0.0
    correct = 0
    count = 0
    with torch.no_grad():
        for (x, y) in batches:
            x = x.to(device)
            y = y.to(device)
            y_prime = model(x)
            loss_sum += loss_fn(y_prime, y).item() * len(y)
            correct += (y_prime.argmax(1) == y).sum().item()
            count += len(y)
    return (loss_sum / count, correct / count)
