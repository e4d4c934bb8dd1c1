# mutant: init_weights draws uniformly from the xavier bound of the public example's first layer (4 inputs, 8 outputs) for every nn.Linear
# cell: def init_weights(module):
# loses: q9
def init_weights(module):
    if isinstance(module, nn.Linear):
        bound = (6 / (4 + 8)) ** 0.5
        nn.init.uniform_(module.weight, -bound, bound)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
