"""Writing answers as files users open elsewhere: .npz, ONNX, PNG.

Input: checked arrays by user name. Output: files written atomically (a
temporary file in the same folder, then a rename), so that an interrupted run
never leaves half a file behind.
"""
