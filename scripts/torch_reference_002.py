"""Seed 002's recipe in PyTorch, as a yardstick for notebook 002's accuracy.

LeNet (conv 6@5x5, ReLU, max-pool, conv 16@5x5, max-pool, fc 120-84-10) on
MNIST resized to 32x32 (bilinear) and normalised with (0.1307, 0.3081), Adam
lr 1e-3, batch 64, 5 epochs, PyTorch's default initialisation; without the
tutorial's RandomHorizontalFlip, as the notebook. One thread.

Usage: CNN_MNIST_DIR=../shared/datasets/mnist python3 scripts/torch_reference_002.py [--json] [--epochs N] 1 2 3
(each argument is a seed; prints the test accuracy after 5 epochs per seed;
with --json one JSON object per seed: seed, accuracy (0..1), epochs, seconds).
scripts/seeds_002.ts runs it beside notebook 002's recipe.
"""
import gzip, numpy as np, torch, torch.nn as nn, torch.nn.functional as F, sys, time
torch.set_num_threads(1)
import os, json
args=sys.argv[1:]; as_json='--json' in args; args=[a for a in args if a!='--json']
epochs=5
if '--epochs' in args:
    i=args.index('--epochs'); epochs=int(args[i+1]); del args[i:i+2]
D=os.environ.get("CNN_MNIST_DIR", "../shared/datasets/mnist").rstrip("/")+"/"
def idx(name, off):
    with gzip.open(D+name) as f: return np.frombuffer(f.read(), np.uint8, offset=off)
xtr=idx('train-images-idx3-ubyte.gz',16).reshape(-1,1,28,28); ytr=idx('train-labels-idx1-ubyte.gz',8)
xte=idx('t10k-images-idx3-ubyte.gz',16).reshape(-1,1,28,28); yte=idx('t10k-labels-idx1-ubyte.gz',8)
def prep(x):
    t=torch.tensor(x,dtype=torch.float32)/255.
    t=F.interpolate(t,size=(32,32),mode='bilinear',align_corners=False)
    return (t-0.1307)/0.3081
Xtr,Xte=prep(xtr),prep(xte); Ytr,Yte=torch.tensor(ytr,dtype=torch.long),torch.tensor(yte,dtype=torch.long)
class LeNet(nn.Module):
    def __init__(s):
        super().__init__(); s.c1=nn.Conv2d(1,6,5); s.c2=nn.Conv2d(6,16,5); s.f1=nn.Linear(400,120); s.f2=nn.Linear(120,84); s.f3=nn.Linear(84,10)
    def forward(s,x):
        x=F.max_pool2d(F.relu(s.c1(x)),2,2); x=F.max_pool2d(s.c2(x),2,2)  # tutorial: no ReLU after conv2
        x=x.flatten(1); return s.f3(F.relu(s.f2(F.relu(s.f1(x)))))
for seed in [int(a) for a in args]:
    torch.manual_seed(seed); m=LeNet(); opt=torch.optim.Adam(m.parameters(),lr=1e-3); t=time.time()
    for ep in range(epochs):
        perm=torch.randperm(60000)
        for i in range(0,60000,64):
            b=perm[i:i+64]; opt.zero_grad(); F.cross_entropy(m(Xtr[b]),Ytr[b]).backward(); opt.step()
    with torch.no_grad(): acc=(m(Xte).argmax(1)==Yte).float().mean().item()
    if as_json: print(json.dumps({'seed': seed, 'accuracy': acc, 'epochs': epochs, 'seconds': round(time.time()-t, 1)}), flush=True)
    else: print(f'seed {seed}: test accuracy {100*acc:.2f}% after {epochs} epochs ({time.time()-t:.0f} s)', flush=True)
