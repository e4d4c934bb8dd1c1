# mutant: init_weights uses nn.init.xavier_normal_ instead of nn.init.xavier_uniform_
# cell: def init_weights(module):
# loses: q9
def init_weights(module):
    if isinstance(module, nn.Linear):
        nn.init.xavier_normal_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
