#!/usr/bin/env python3
"""The functions of one program that ran, from callgrind output files (made with
`--demangle=no`, so the names are the symbols the linker knows), hottest first: one symbol a
line, by the instructions each executed itself (summed over the files), ties by name.

usage: callgrind_functions.py OBJECT_FILE_NAME CALLGRIND_FILE...
(OBJECT_FILE_NAME: the program's file name, e.g. `ticksync`; other objects, such as libc,
are left out.)"""
import re
import sys


def definition(line, table):
    """`ob=(3) /path` or `cfn=(7)`: the name of the id, remembered when the line gives it
    (callgrind names each object and function once, then refers to it by id)."""
    m = re.match(r"c?(?:ob|fn)=\((\d+)\)(?: (.*))?", line.rstrip("\n"))
    if m.group(2):
        table[m.group(1)] = m.group(2)
    return table.get(m.group(1))


def self_costs(path, object_name, costs):
    names, objects = {}, {}
    current_object = current = None
    after_call = False
    for line in open(path, errors="replace"):
        if line.startswith(("ob=", "cob=")):
            name = definition(line, objects)
            if line.startswith("ob="):
                current_object = name
        elif line.startswith(("fn=", "cfn=")):
            name = definition(line, names)
            if line.startswith("fn="):
                current = name
        elif line.startswith("calls="):
            # The next cost line is the call's inclusive cost, not this function's own.
            after_call = True
        elif line[:1].isdigit() or line[:1] in "+-*":
            if after_call:
                after_call = False
                continue
            parts = line.split()
            if current and len(parts) >= 2 and current_object \
                    and current_object.rsplit("/", 1)[-1] == object_name:
                # `name'2`: callgrind's mark for a recursion level, not part of the symbol.
                name = re.sub(r"'\d+$", "", current)
                costs[name] = costs.get(name, 0) + int(parts[1])


def main():
    costs = {}
    for path in sys.argv[2:]:
        self_costs(path, sys.argv[1], costs)
    for name, _ in sorted(costs.items(), key=lambda kv: (-kv[1], kv[0])):
        # Valgrind's own entries ("(below main)") are no symbols.
        if " " not in name:
            print(name)


if __name__ == "__main__":
    main()
