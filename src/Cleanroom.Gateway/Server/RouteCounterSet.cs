namespace Cleanroom.Gateway.Server;

/// <summary>The live counters behind <see cref="GatewayServer.Statistics"/>: one set per route, updated atomically.</summary>
internal sealed class RouteCounterSet
{
    /// <summary>The routes counted, in the order reported; <c>none</c> holds refusals no route was chosen for.</summary>
    public static readonly string[] Routes = ["git", "fetch", "registry", "npm", "goproxy", "pypi", "rubygems", "other", "none"];

    private readonly Counters[] _counters = [.. Routes.Select(_ => new Counters())];

    public Counters For(string route)
    {
        var index = Array.IndexOf(Routes, route);
        return _counters[index < 0 ? Routes.Length - 1 : index];
    }

    public IReadOnlyList<GatewayRouteCounters> Snapshot() =>
        [.. Routes.Select((name, i) => _counters[i].Snapshot(name))];

    /// <summary>One route's counters.</summary>
    internal sealed class Counters
    {
        private long _hits;
        private long _misses;
        private long _stale;
        private long _bypassed;
        private long _refused;
        private long _upstreamErrors;
        private long _bytes;

        public void Hit() => Interlocked.Increment(ref _hits);

        public void Miss() => Interlocked.Increment(ref _misses);

        public void Stale() => Interlocked.Increment(ref _stale);

        public void Bypass() => Interlocked.Increment(ref _bypassed);

        public void Refuse() => Interlocked.Increment(ref _refused);

        public void UpstreamError() => Interlocked.Increment(ref _upstreamErrors);

        public void Served(long bytes) => Interlocked.Add(ref _bytes, bytes);

        public GatewayRouteCounters Snapshot(string route) => new(
            route,
            Interlocked.Read(ref _hits),
            Interlocked.Read(ref _misses),
            Interlocked.Read(ref _stale),
            Interlocked.Read(ref _bypassed),
            Interlocked.Read(ref _refused),
            Interlocked.Read(ref _upstreamErrors),
            Interlocked.Read(ref _bytes));
    }
}
