namespace Cleanroom.Workspaces.Submodules;

/// <summary>One <c>[submodule "NAME"]</c> section of a commit's <c>.gitmodules</c>.</summary>
/// <param name="Name">The section name, which names the submodule's git directory (<c>modules/NAME</c>).</param>
/// <param name="Path">Where the submodule is in the superproject's tree.</param>
/// <param name="Url">Where it is fetched from; null when the section has none.</param>
internal sealed record GitModulesEntry(string Name, string Path, string? Url);
