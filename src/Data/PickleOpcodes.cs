// A pickle's opcodes walked without building anything (as Python's pickletools.genops does), to see what it names.
using System.Buffers.Binary;
using System.Text;

namespace Denoiser.Data;

public static class PickleOpcodes
{
    /// <summary>
    /// The globals ("module.name") the pickle starting at <paramref name="start"/> names, and the offset just past its
    /// STOP. Opcodes that name a global indirectly (STACK_GLOBAL, the EXT registry) are refused: torch.save's
    /// protocol 2 never writes them, and a checker that cannot see a name cannot vouch for it.
    /// </summary>
    public static (List<string> Globals, int End) Scan(byte[] b, int start)
    {
        var globals = new List<string>();
        int i = start;
        while (true)
        {
            if (i >= b.Length) throw new InvalidDataException("its pickle ends before its STOP opcode.");
            char op = (char)b[i++];
            switch (op)
            {
                case '.': return (globals, i);
                case 'c' or 'i': globals.Add(Line(b, ref i) + "." + Line(b, ref i)); break; // GLOBAL, INST
                case '\x93' or '\x82' or '\x83' or '\x84':
                    throw new InvalidDataException($"its pickle names a global indirectly (opcode 0x{(int)op:x2}), which torch.save does not write.");
                case 'I' or 'L' or 'S' or 'V' or 'F' or 'g' or 'p' or 'P': Line(b, ref i); break; // text arguments
                case 'K' or 'h' or 'q' or '\x80': i += 1; break;
                case 'M': i += 2; break;
                case 'J' or 'j' or 'r': i += 4; break;
                case 'G' or '\x95': i += 8; break;
                case 'U' or 'C' or '\x8c' or '\x8a': i = Skip(b, i + 1, Need(b, i, 1)[0]); break;
                case 'T' or 'B' or 'X' or '\x8b': i = Skip(b, i + 4, BinaryPrimitives.ReadUInt32LittleEndian(Need(b, i, 4))); break;
                case '\x8d' or '\x8e' or '\x96': i = Skip(b, i + 8, BinaryPrimitives.ReadInt64LittleEndian(Need(b, i, 8))); break;
                case '(' or '0' or '1' or '2' or 'N' or 'Q' or 'R' or 'a' or 'b' or 'd' or '}' or 'e' or 'l' or ']' or 'o' or 's'
                    or 't' or ')' or 'u' or '\x81' or '\x85' or '\x86' or '\x87' or '\x88' or '\x89' or '\x8f' or '\x90' or '\x91'
                    or '\x92' or '\x94' or '\x97' or '\x98':
                    break;
                default: throw new InvalidDataException($"its pickle has an unknown opcode 0x{(int)op:x2} at byte {i - 1}.");
            }
        }
    }

    static ReadOnlySpan<byte> Need(byte[] b, int at, int count) =>
        at + count <= b.Length ? b.AsSpan(at, count) : throw new InvalidDataException("its pickle is truncated.");

    static int Skip(byte[] b, int at, long count) =>
        count >= 0 && count <= b.Length - at ? at + (int)count : throw new InvalidDataException("its pickle is truncated.");

    static string Line(byte[] b, ref int i)
    {
        int end = Array.IndexOf(b, (byte)'\n', i);
        if (end < 0) throw new InvalidDataException("its pickle is truncated.");
        string s = Encoding.UTF8.GetString(b, i, end - i);
        i = end + 1;
        return s;
    }
}
