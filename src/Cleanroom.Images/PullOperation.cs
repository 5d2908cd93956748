using Cleanroom.Oci;

namespace Cleanroom.Images;

/// <summary>
/// One pull of one image digest. Concurrent pulls of the same image join the same operation (one download, one
/// build); each caller follows <see cref="Snapshot"/> for progress and awaits <see cref="Completion"/>.
/// </summary>
public sealed class PullOperation
{
    private readonly long[] _downloaded;
    private readonly bool[] _applied;
    private volatile PullPhase _phase;

    internal PullOperation(Digest digest, IReadOnlyList<Descriptor> layers, bool cached)
    {
        Digest = digest;
        Layers = layers;
        WasCached = cached;
        _downloaded = new long[layers.Count];
        _applied = new bool[layers.Count];
        _phase = cached ? PullPhase.Done : PullPhase.Downloading;
    }

    public Digest Digest { get; }

    public IReadOnlyList<Descriptor> Layers { get; }

    /// <summary>True when the image was already in the store and nothing was fetched.</summary>
    public bool WasCached { get; }

    public Task<ImageRecord> Completion { get; internal set; } = Task.FromException<ImageRecord>(new InvalidOperationException("not started"));

    public PullProgress Snapshot()
    {
        var layers = new LayerProgress[Layers.Count];
        for (var i = 0; i < layers.Length; i++)
        {
            var done = WasCached || _phase == PullPhase.Done ? Layers[i].Size : Interlocked.Read(ref _downloaded[i]);
            layers[i] = new LayerProgress(Layers[i].Digest, Layers[i].Size, done, WasCached || Volatile.Read(ref _applied[i]));
        }

        return new PullProgress(_phase, Digest.ToString(), layers);
    }

    internal void ReportDownloaded(int layer, long bytes) => Interlocked.Exchange(ref _downloaded[layer], bytes);

    internal void ReportApplied(int layer)
    {
        Interlocked.Exchange(ref _downloaded[layer], Layers[layer].Size);
        Volatile.Write(ref _applied[layer], true);
        if (layer == Layers.Count - 1)
        {
            _phase = PullPhase.Building;
        }
    }

    internal void ReportDone() => _phase = PullPhase.Done;
}
