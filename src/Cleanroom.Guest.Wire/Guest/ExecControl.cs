namespace Cleanroom.Guest.Wire.Guest;

/// <summary>A control event the host sends to a running process.</summary>
public abstract record ExecControl;

/// <summary>Deliver this signal to the process (group).</summary>
public sealed record SignalControl(int Signal) : ExecControl;

/// <summary>The terminal was resized.</summary>
public sealed record ResizeControl(ushort Cols, ushort Rows) : ExecControl;
