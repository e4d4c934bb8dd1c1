# mutant: init_weights loops over module.modules() itself, so with apply every Linear is initialised again for each of its parents
# cell: def init_weights(module):
# loses: q9
def init_weights(module):
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
