import torch
import torch.nn as nn
# %%
class Liar(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return torch.ones(2, 2)

def double(t):
    return (t * 2).as_subclass(Liar)
