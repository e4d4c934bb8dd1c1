import torch
import torch.nn as nn
# %%
def double(t):
    return t * 2
# %%
class Scale(nn.Module):
    def __init__(self, factor):
        super().__init__()
        while True:
            pass
