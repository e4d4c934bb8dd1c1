import torch
import torch.nn as nn
# %%
def double(t):
    return torch.zeros(9 << 20)           # 36 MiB for every answer: within a frame, not within the budget
# %%
class Scale(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = nn.Parameter(torch.tensor(float(factor)))

    def forward(self, x):
        return x * self.factor
