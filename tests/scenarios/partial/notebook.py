import torch
import torch.nn as nn
# %%
def double(t):
    return t + t
# %%
class Scale(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = float(factor)          # a plain attribute: not a parameter

    def forward(self, x):
        return x * self.factor
