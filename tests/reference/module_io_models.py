"""The torch twins of the etna networks in tests/io/module_io_test.cpp (same state_dict names and
shapes), shared by make_module_io_fixtures.py and tests/io/torch_load_check.py."""
import torch.nn as nn


def cnn():
    # etna: Sequential<Conv2d<1, 2, 3, {.padding = 1}>, BatchNorm2d<2>, ReLU, MaxPool2d<2>,
    #                  Flatten, Linear<18, 3>> on [N, 1, 6, 6]
    return nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(18, 3))


class Net(nn.Module):
    """etna: a user struct with a nested Sequential and a std::vector of Linear heads."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.Linear(6, 4))
        self.heads = nn.ModuleList([nn.Linear(4, 2), nn.Linear(4, 3)])

    def forward(self, x):
        h = self.backbone(x)
        return self.heads[0](h).sum(1, keepdim=True) + self.heads[1](h)


MODELS = {"cnn": cnn, "net": Net}
