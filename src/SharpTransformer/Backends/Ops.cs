namespace SharpTransformer.Backends;

/// <summary>Elementwise unary kernels. Some take a scalar argument <c>arg</c>.</summary>
public enum UnaryOp
{
    /// <summary>y = x</summary>
    Identity,
    /// <summary>y = -x</summary>
    Neg,
    /// <summary>y = exp(x)</summary>
    Exp,
    /// <summary>y = ln(x)</summary>
    Log,
    /// <summary>y = sqrt(x)</summary>
    Sqrt,
    /// <summary>y = tanh(x)</summary>
    Tanh,
    /// <summary>y = 1 / (1 + exp(-x))</summary>
    Sigmoid,
    /// <summary>y = max(x, 0)</summary>
    Relu,
    /// <summary>y = x * Phi(x), exact erf form.</summary>
    Gelu,
    /// <summary>y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).</summary>
    GeluTanh,
    /// <summary>y = x * sigmoid(x)</summary>
    Silu,
    /// <summary>y = |x|</summary>
    Abs,
    /// <summary>y = x * x</summary>
    Square,
    /// <summary>y = 1 / x</summary>
    Reciprocal,
    /// <summary>y = x + arg</summary>
    AddScalar,
    /// <summary>y = x * arg</summary>
    MulScalar,
    /// <summary>y = x ^ arg</summary>
    PowScalar,
    /// <summary>y = arg / x</summary>
    RDivScalar,
    /// <summary>y = max(x, arg)</summary>
    ClampMin,
    /// <summary>y = min(x, arg)</summary>
    ClampMax,
}

/// <summary>Elementwise binary kernels (inputs broadcast by stride 0).</summary>
public enum BinaryOp
{
    /// <summary>y = a + b</summary>
    Add,
    /// <summary>y = a - b</summary>
    Sub,
    /// <summary>y = a * b</summary>
    Mul,
    /// <summary>y = a / b</summary>
    Div,
    /// <summary>y = a ^ b</summary>
    Pow,
    /// <summary>y = max(a, b)</summary>
    Max,
    /// <summary>y = min(a, b)</summary>
    Min,
    /// <summary>y = a == b ? 1 : 0</summary>
    Equal,
    /// <summary>y = a &gt; b ? 1 : 0</summary>
    Greater,
    /// <summary>y = a &lt; b ? 1 : 0</summary>
    Less,
}

/// <summary>Reductions along one axis.</summary>
public enum ReduceOp
{
    /// <summary>Sum of the elements.</summary>
    Sum,
    /// <summary>Largest element.</summary>
    Max,
    /// <summary>Smallest element.</summary>
    Min,
    /// <summary>Index of the first largest element (Int32 output).</summary>
    ArgMax,
}

/// <summary>Distributions for <see cref="IBackend.RandomFill"/>.</summary>
public enum RandomKind
{
    /// <summary>Uniform in [a, b).</summary>
    Uniform,
    /// <summary>Normal with mean a and standard deviation b.</summary>
    Normal,
    /// <summary>1 with probability a, else 0, times b (dropout masks: a = keep, b = 1/keep).</summary>
    Bernoulli,
}
