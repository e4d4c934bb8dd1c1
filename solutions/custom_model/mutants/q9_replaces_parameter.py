# mutant: init_weights creates new nn.Parameter objects for weight and bias instead of filling the existing ones in place
# cell: def init_weights(module):
# loses: q9
def init_weights(module):
    if isinstance(module, nn.Linear):
        module.weight = nn.Parameter(nn.init.xavier_uniform_(torch.empty_like(module.weight)))
        if module.bias is not None:
            module.bias = nn.Parameter(torch.zeros_like(module.bias))
