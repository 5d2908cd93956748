using Cleanroom.Vm.Assets;

namespace Cleanroom.Vm.Templates;

/// <summary>
/// The VM a template is made of: everything a restored clone must share with it. The root image is part of it
/// because the agent has already switched into the root file system when the snapshot is taken.
/// </summary>
/// <param name="Id">Name of the template VM (ids rules of <see cref="VmSpec.Id"/>).</param>
/// <param name="WorkDir">Absolute directory the template VM runs in; removed after the build.</param>
/// <param name="Directory">Absolute directory the template's files are kept in (created; must not exist).</param>
/// <param name="Network">Whether clones have a network card (the template boots one on an unconnected hub port).</param>
/// <param name="Workspace">Whether clones have a workspace disk (the template boots a placeholder).</param>
public sealed record VmTemplateRequest(
    string Id,
    string WorkDir,
    string Directory,
    BootAssets Assets,
    string RootImagePath,
    int Vcpus,
    int MemoryMiB,
    bool Network,
    bool Workspace)
{
    /// <summary>The VM spec the template VM boots with (no TAP: a hub port stands in for the network).</summary>
    internal VmSpec ToSpec(string? workspacePlaceholder) => new(Id, WorkDir, Assets, Vcpus, MemoryMiB)
    {
        RootImagePath = RootImagePath,
        WorkspaceImagePath = Workspace ? workspacePlaceholder : null,
        ExtraKernelArgs = [TemplateKernelArg],
    };

    /// <summary>Tells the agent to stop before anything sandbox-specific and wait for the host's Configure.</summary>
    public const string TemplateKernelArg = "cleanroom.template=1";
}
