using System.Net;

namespace Cleanroom.Network.Firewall;

/// <summary>An address and port a sandbox may reach because an allowed name resolved to it.</summary>
public readonly record struct LearnedDestination(IPAddress Address, int Port);
