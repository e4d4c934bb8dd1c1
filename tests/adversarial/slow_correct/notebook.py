import time

import torch
import torch.nn as nn
# %%
def double(t):
    time.sleep(2.4)        # each answer within probe_timeout (3 s), all four past judge_timeout (9 s)
    return t * 2
# %%
class Scale(nn.Module):
    def __init__(self, factor):
        super().__init__()
        time.sleep(2.4)
        self.factor = nn.Parameter(torch.tensor(float(factor)))

    def forward(self, x):
        return x * self.factor
