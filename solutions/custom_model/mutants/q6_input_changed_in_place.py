# mutant: the pre-hook scales the caller's input tensor in place with mul_ instead of returning a new input
# cell: def add_input_scale(module, factor):
# loses: q6
def add_input_scale(module, factor):
    def hook(module, args):
        args[0].mul_(factor)

    return module.register_forward_pre_hook(hook)


def add_output_clamp(module, low, high):
    def hook(module, args, output):
        return output.clamp(low, high)

    return module.register_forward_hook(hook)
