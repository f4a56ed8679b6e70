"""Seed 002's recipe in PyTorch, as a yardstick for notebook 002's accuracy.

LeNet (conv 6@5x5, ReLU, max-pool, conv 16@5x5, max-pool, fc 120-84-10) on
MNIST resized to 32x32 (bilinear) and normalised with (0.1307, 0.3081), Adam
lr 1e-3, batch 64, 5 epochs, PyTorch's default initialisation; without the
tutorial's RandomHorizontalFlip, as the notebook. One thread.

Usage: CNN_MNIST_DIR=../shared/datasets/mnist python3 scripts/torch_reference_002.py [--json] [--epochs N] 1 2 3
(each argument is a seed; prints the test accuracy after 5 epochs per seed;
with --json one JSON object per seed: seed, accuracy (0..1), epochs, seconds;
--dump-test FILE writes the transformed test images as raw float32, N x 32 x 32;
--grads IN OUT reads TensorFlow.js weights and a batch (JSON, tfjs layouts) and
writes the loss and its gradients computed by PyTorch, in tfjs layouts).
scripts/seeds_002.ts runs it beside notebook 002's recipe.
"""
import gzip, numpy as np, torch, torch.nn as nn, torch.nn.functional as F, sys, time
torch.set_num_threads(1)
import os, json
args=sys.argv[1:]; as_json='--json' in args; args=[a for a in args if a!='--json']
epochs=5; dump=None; grads=None
if '--grads' in args:
    i=args.index('--grads'); grads=args[i+1:i+3]; del args[i:i+3]
if '--dump-test' in args:
    i=args.index('--dump-test'); dump=args[i+1]; del args[i:i+2]
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
if dump: Xte.numpy().astype('<f4').tofile(dump)  # the transformed test images, float32, N x 32 x 32
class LeNet(nn.Module):
    def __init__(s):
        super().__init__(); s.c1=nn.Conv2d(1,6,5); s.c2=nn.Conv2d(6,16,5); s.f1=nn.Linear(400,120); s.f2=nn.Linear(120,84); s.f3=nn.Linear(84,10)
    def forward(s,x):
        x=F.max_pool2d(F.relu(s.c1(x)),2,2); x=F.max_pool2d(s.c2(x),2,2)  # tutorial: no ReLU after conv2
        x=x.flatten(1); return s.f3(F.relu(s.f2(F.relu(s.f1(x)))))
def tfjs_gradients(path_in, path_out):
    """Loss and gradients of the tutorial's network at tfjs's weights (HWIO
    kernels, [in, out] dense matrices, NHWC flattening) on one batch."""
    d=json.load(open(path_in))
    W=[np.array(w['v'],np.float32).reshape(w['shape']) for w in d['weights']]
    conv=lambda k: torch.tensor(k.transpose(3,2,0,1).copy())  # HWIO -> OIHW
    # tfjs flattens 5x5x16 as (h, w, c); PyTorch as (c, h, w).
    fc1=lambda k: torch.tensor(k.reshape(5,5,16,120).transpose(2,0,1,3).reshape(400,120).T.copy())
    P=[conv(W[0]),torch.tensor(W[1]),conv(W[2]),torch.tensor(W[3]),fc1(W[4]),torch.tensor(W[5]),
       torch.tensor(W[6].T.copy()),torch.tensor(W[7]),torch.tensor(W[8].T.copy()),torch.tensor(W[9])]
    for p in P: p.requires_grad_(True)
    x=torch.tensor(np.array(d['x'],np.float32).reshape(-1,32,32,1).transpose(0,3,1,2).copy())
    y=torch.tensor(np.array(d['y']),dtype=torch.long)
    h=F.max_pool2d(F.relu(F.conv2d(x,P[0],P[1])),2,2); h=F.max_pool2d(F.conv2d(h,P[2],P[3]),2,2).flatten(1)
    h=F.relu(F.linear(h,P[4],P[5])); h=F.relu(F.linear(h,P[6],P[7]))
    loss=F.cross_entropy(F.linear(h,P[8],P[9]),y); loss.backward()
    g=[P[0].grad.numpy().transpose(2,3,1,0),P[1].grad.numpy(),P[2].grad.numpy().transpose(2,3,1,0),P[3].grad.numpy(),
       P[4].grad.numpy().T.reshape(16,5,5,120).transpose(1,2,0,3).reshape(400,120),P[5].grad.numpy(),
       P[6].grad.numpy().T,P[7].grad.numpy(),P[8].grad.numpy().T,P[9].grad.numpy()]
    json.dump({'loss':loss.item(),'grads':[{'shape':list(a.shape),'v':a.ravel().tolist()} for a in g]},open(path_out,'w'))
if grads: tfjs_gradients(*grads)
for seed in [int(a) for a in args]:
    torch.manual_seed(seed); m=LeNet(); opt=torch.optim.Adam(m.parameters(),lr=1e-3); t=time.time()
    for ep in range(epochs):
        perm=torch.randperm(60000)
        for i in range(0,60000,64):
            b=perm[i:i+64]; opt.zero_grad(); F.cross_entropy(m(Xtr[b]),Ytr[b]).backward(); opt.step()
    with torch.no_grad(): acc=(m(Xte).argmax(1)==Yte).float().mean().item()
    if as_json: print(json.dumps({'seed': seed, 'accuracy': acc, 'epochs': epochs, 'seconds': round(time.time()-t, 1)}), flush=True)
    else: print(f'seed {seed}: test accuracy {100*acc:.2f}% after {epochs} epochs ({time.time()-t:.0f} s)', flush=True)
