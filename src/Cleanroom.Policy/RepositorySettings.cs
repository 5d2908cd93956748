namespace Cleanroom.Policy;

/// <summary>The <c>repository</c> block: whether and how the repository is checked out inside the sandbox.</summary>
/// <param name="Enabled">Check the repository out at all (default true).</param>
/// <param name="Remote">The git remote to resolve the commit from (default <c>origin</c>).</param>
/// <param name="Path">The absolute guest path of the checkout (default <c>/workspace</c>); relative outputs resolve under it.</param>
/// <param name="Submodules">Also check out submodules (default false).</param>
public sealed record RepositorySettings(bool Enabled, string Remote, string Path, bool Submodules)
{
    /// <summary>The settings used when the policy has no <c>repository</c> block.</summary>
    public static RepositorySettings Default { get; } = new(true, "origin", "/workspace", false);
}
