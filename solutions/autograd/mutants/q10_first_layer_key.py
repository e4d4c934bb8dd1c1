# mutant: reads the wrong state_dict key: 0.weight / 0.bias (the first layer)
# cell: def last_layer_coefficients(model):
# loses: q10
def last_layer_coefficients(model):
    state = model.state_dict()
    return {"weight": state["0.weight"].flatten().tolist(), "bias": state["0.bias"][0].item()}
