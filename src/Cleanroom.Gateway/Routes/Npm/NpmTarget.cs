namespace Cleanroom.Gateway.Routes.Npm;

/// <summary>What an npm path after the host asks for: a package's packument, or one of its tarballs.</summary>
/// <param name="Scope">The scope without its <c>@</c> (<c>babel</c> for <c>@babel/core</c>), or null for an unscoped package.</param>
/// <param name="Name">The package name within its scope.</param>
/// <param name="File">The tarball's file name (<c>core-7.0.0.tgz</c>), or null for the packument.</param>
internal sealed record NpmTarget(string? Scope, string Name, string? File)
{
    /// <summary>The full package name: <c>@scope/name</c> or <c>name</c>.</summary>
    public string PackageName => Scope is null ? Name : $"@{Scope}/{Name}";

    /// <summary>True for a tarball, false for a packument.</summary>
    public bool IsTarball => File is not null;

    /// <summary>
    /// The one path this target is fetched and cached under upstream: a packument as npm spells it
    /// (<c>/@scope%2fname</c>), a tarball as registries link it (<c>/@scope/name/-/name-1.0.0.tgz</c>).
    /// </summary>
    public string UpstreamPath => File is null
        ? (Scope is null ? "/" + Name : $"/@{Scope}%2f{Name}")
        : $"/{PackageName}/-/{File}";
}
