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
for i in range(64):
    with open(f"/tmp/fill{i}.bin", "wb") as f:
        for _ in range(32):
            f.write(chunk)
