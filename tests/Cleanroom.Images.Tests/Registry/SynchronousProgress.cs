namespace Cleanroom.Images.Tests.Registry;

/// <summary>Reports on the calling thread (Progress&lt;T&gt; posts to the thread pool, so a test could miss the last value).</summary>
internal sealed class SynchronousProgress(Action<long> report) : IProgress<long>
{
    public void Report(long value) => report(value);
}
