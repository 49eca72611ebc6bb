namespace SharpTransformer.Autograd;

/// <summary>Turns graph recording off for inference: <c>using (GradMode.NoGrad()) { ... }</c>.</summary>
public static class GradMode
{
    [ThreadStatic] private static int _disabled;

    /// <summary>True when ops record their backward (the default).</summary>
    public static bool IsEnabled => _disabled == 0;

    /// <summary>Disables recording on this thread until the returned scope is disposed.</summary>
    public static IDisposable NoGrad()
    {
        _disabled++;
        return new Restore();
    }

    private sealed class Restore : IDisposable
    {
        private bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            _disabled--;
        }
    }
}
