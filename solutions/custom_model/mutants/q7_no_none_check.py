# mutant: record_grads copies grad_input[0] without checking for None, so the hook fails when the module's input does not require grad
# cell: def record_grads(module, log):
# loses: q7
def record_grads(module, log):
    def hook(module, grad_input, grad_output):
        log.append((grad_input[0].detach().clone(), grad_output[0].detach().clone()))

    return module.register_full_backward_hook(hook)


def scale_grad(param, factor):
    return param.register_hook(lambda grad: grad * factor)
