import torch
import torch.nn as nn
# %%
BAD = ("\ud800 \x00 \x1b[2J\x1b]0;pwned\x07 [/] [bold red]x[/] \u202eevil \u2066 "
       "![t](http://evil.example/p.png) <img src=x onerror=alert(1)> =cmd|' /C calc'!A0")
Weird = type("Weird" + BAD[1:].replace("\x00", ""), (), {})    # no lone surrogate or NUL in a type name

def double(t):
    return Weird()              # its type name reaches the test's message
# %%
class Scale(nn.Module):
    def __init__(self, factor):
        super().__init__()
        setattr(self, BAD, 1)
        raise RuntimeError(BAD)
# %%
print(BAD * 100)
raise ValueError(BAD)
