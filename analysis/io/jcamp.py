"""Bruker JCAMP-DX parameter files (acqus, procs, ...) read into a dictionary.

Vendored from nmrglue 0.12 (`nmrglue.fileio.bruker.read_jcamp` and its helpers), same
behaviour (except that a file ending inside a multi-line value is a parse warning for that
key, where nmrglue loops for ever), so that reading a TopSpin dataset does not import nmrglue: its package
import pulls in `nmrglue.process` and with it scipy.signal and scipy.stats (~1 s of every
`python -m analysis run` and of every fresh worker, issue 16). A test checks this copy
against nmrglue's on every parameter file in tests/data.

nmrglue's licence (BSD 3-clause) applies to this module:

    Copyright Notice and Statement for the nmrglue Project
    
    
    Copyright (c) 2010-2015 Jonathan J. Helmus
    All rights reserved.
    
    
    Redistribution and use in source and binary forms, with or without
    modification, are permitted provided that the following conditions are
    met:
    
    
    a. Redistributions of source code must retain the above copyright
       notice, this list of conditions and the following disclaimer.
    
    
    b. Redistributions in binary form must reproduce the above copyright
       notice, this list of conditions and the following disclaimer in the
       documentation and/or other materials provided with the
       distribution.
    
    
    c. Neither the name of the author nor the names of contributors may
       be used to endorse or promote products derived from this software
       without specific prior written permission.
    
    
    THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS
    "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT
    LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR
    A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT
    OWNER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL,
    SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT
    LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE,
    DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY
    THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT
    (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
    OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""
from __future__ import annotations

import locale
from typing import Any, TextIO
from warnings import warn


def read_jcamp(filename: str, encoding: str = locale.getpreferredencoding()) -> dict[str, Any]:
    """Read a Bruker JCAMP-DX file into a dictionary (nmrglue's `read_jcamp`): `$FOO`
    parameters become dic["FOO"] (str, int, float, bool or list); `_coreheader` and
    `_comments` hold the ## header and $$ comment lines."""
    dic: dict[str, Any] = {"_coreheader": [], "_comments": []}
    try:
        with open(filename, "r", encoding=encoding) as f:
            dic = _parse_file(f, dic)
    except Exception:  # as nmrglue: retry in another encoding
        if encoding == "utf-8":
            with open(filename, "r", encoding="cp1252") as f:
                dic = _parse_file(f, dic)
        else:
            with open(filename, "r", encoding="utf-8") as f:
                dic = _parse_file(f, dic)
    return dic


def _parse_file(f: TextIO, dic: dict[str, Any]) -> dict[str, Any]:
    while True:
        line = f.readline().rstrip()
        if line == "":
            break
        if line[:6] == "##END=":
            break
        elif line[:2] == "$$":
            dic["_comments"].append(line)
        elif line[:2] == "##" and line[2] != "$":
            dic["_coreheader"].append(line)
        elif line[:3] == "##$":
            try:
                key, value = _parse_line(line, f)
                dic[key] = value
            except Exception:
                warn(f"Unable to correctly parse line: {line}")
        else:
            warn(f"Extraneous line: {line}")
    return dic


def _parse_line(line: str, f: TextIO) -> tuple[str, Any]:
    key = line[3:line.index("=")]
    text = line[line.index("=") + 1:].lstrip()
    if "<" in text:  # string, possibly over several lines
        while ">" not in text:
            more = f.readline()
            if more == "":  # end of file: nmrglue loops here for ever (a truncated file)
                raise ValueError(f"{key}: the file ends inside a <string>")
            text += "\n" + more.rstrip()
        value: Any = text[1:-1]
    elif "(" in text:  # array: (0..n) then values, possibly over several lines
        num = int(line[line.index("..") + 2:line.index(")")]) + 1
        value = [_parse_value(t) for t in line[line.index(")") + 1:].split()]
        while len(value) < num:
            more = f.readline()
            if more == "":  # end of file before the declared count: nmrglue loops for ever
                raise ValueError(f"{key}: the file ends after {len(value)} of {num} values")
            value.extend(_parse_value(t) for t in more.rstrip().split())
    elif text == "yes":
        value = True
    elif text == "no":
        value = False
    else:
        value = _parse_value(text)
    return key, value


def _parse_value(text: str) -> Any:
    if text == "":
        return None
    if text.startswith("<") and text.endswith(">"):
        return text[1:-1]
    if "." in text or "e" in text or "inf" in text:
        try:
            return float(text)
        except ValueError:
            return text
    try:
        return int(text)
    except ValueError:
        return text
