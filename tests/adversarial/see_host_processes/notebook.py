import os
pids = [p for p in os.listdir("/proc") if p.isdigit()]
print(len(pids), "processes visible")
# %%
if len(pids) > 5:
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
