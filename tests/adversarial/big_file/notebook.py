import torch
import torch.nn as nn
# %%
def double(t):
    return t * 2
# %%
class Scale(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = nn.Parameter(torch.tensor(float(factor)))

    def forward(self, x):
        return x * self.factor
# %%
chunk = b"\0" * (1 << 20)
with open("huge.bin", "wb") as f:
    for _ in range(1024):
        f.write(chunk)
