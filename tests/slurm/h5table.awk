# tests/slurm/h5table.awk -- turns `h5dump -w 0 -d DATASET FILE` of a compound dataset into one
# line per row, "name=value" fields separated by tabs, member names taken from the DATATYPE block
# (enum members print by name). Used by tests/slurm/run.sh to compare and count rows.
/^ *DATATYPE/ { intype = 1; next }
intype && /^ *DATASPACE/ { intype = 0; next }
intype {
    # A member's declaration ends with its name: `H5T_IEEE_F64LE "best_val_acc";` or
    # `} "status";`. Enum values (`"done" 2;`) do not end that way.
    if (match($0, /"[^"]*";[ \t]*$/)) names[++nnames] = substr($0, RSTART + 1, RLENGTH - 3)
    next
}
/^ *DATA \{/ { indata = 1; next }
indata && /^ *\([0-9]+\): *\{/ { inrow = 1; col = 0; line = ""; next }
indata && inrow && /^ *\}/ { print line; inrow = 0; next }
indata && inrow {
    v = $0
    sub(/^[ \t]+/, "", v)
    sub(/,[ \t]*$/, "", v)
    col++
    line = line (col > 1 ? "\t" : "") names[col] "=" v
    next
}
