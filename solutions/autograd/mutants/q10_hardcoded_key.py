# mutant: hard-codes the key '2.weight' of the public example instead of using len(model) - 1
# cell: def last_layer_coefficients(model):
# loses: q10
def last_layer_coefficients(model):
    state = model.state_dict()
    return {"weight": state["2.weight"].flatten().tolist(), "bias": state["2.bias"].item()}
