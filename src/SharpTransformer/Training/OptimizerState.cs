using SharpTransformer.Tensors;

namespace SharpTransformer.Training;

/// <summary>The state of an <see cref="IOptimizer"/> on the host, for checkpoints.</summary>
/// <param name="Kind">The optimizer (for example "adamw" or "sgd"); loading checks it.</param>
/// <param name="StepCount">Steps taken.</param>
/// <param name="Parameters">The state of each parameter that has any, in the optimizer's parameter order.</param>
public sealed record OptimizerState(string Kind, int StepCount, IReadOnlyList<ParameterState> Parameters);

/// <summary>The state buffers of one parameter (for AdamW "m" and "v"; for SGD "momentum"), each as long as the parameter.</summary>
/// <param name="Parameter">The parameter they belong to.</param>
/// <param name="Buffers">Buffer name → values in the parameter's row-major order.</param>
public sealed record ParameterState(Tensor Parameter, IReadOnlyDictionary<string, float[]> Buffers);
