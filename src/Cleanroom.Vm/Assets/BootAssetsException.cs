namespace Cleanroom.Vm.Assets;

/// <summary>Boot assets are missing or do not match their manifest. The message names the file and the fix.</summary>
public sealed class BootAssetsException : Exception
{
    public BootAssetsException()
    {
    }

    public BootAssetsException(string message)
        : base(message)
    {
    }

    public BootAssetsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
