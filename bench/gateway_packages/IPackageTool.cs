namespace Cleanroom.Gateway.Bench;

/// <summary>One package manager and the generated packages it installs, written into the static upstream's directory.</summary>
internal interface IPackageTool
{
    /// <summary>The name in the table.</summary>
    string Name { get; }

    /// <summary>Packages one install fetches.</summary>
    int Packages { get; }

    /// <summary>Bytes of package archives one install fetches.</summary>
    long ArchiveBytes { get; }

    /// <summary>The index or proxy address that reaches the static upstream directly.</summary>
    string DirectUrl(Uri upstream);

    /// <summary>The index or proxy address that reaches the static upstream through the gateway.</summary>
    string GatewayUrl(Uri gateway);

    /// <summary>
    /// Installs every package from <paramref name="url"/> with client-side caches and targets fresh under
    /// <paramref name="scratch"/>, checks that every archive arrived intact, deletes what it made, and returns the
    /// client's wall-clock seconds (the check and the cleanup are not timed).
    /// </summary>
    Task<double> InstallAsync(string url, string scratch);
}
